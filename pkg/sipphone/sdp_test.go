package sipphone

import (
	"errors"
	"net/netip"
	"os"
	"reflect"
	"testing"
)

func TestParseSDP(t *testing.T) {
	golden, err := os.ReadFile("testdata/asterisk_answer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		addr    string
		codecs  []string
		dir     string
		wantErr bool
	}{
		{"asterisk answer", string(golden), "127.0.0.1:10042", []string{"PCMU", "telephone-event"}, "sendrecv", false},
		{"media c= overrides session", "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 5000 RTP/AVP 8 0\r\nc=IN IP4 2.2.2.2\r\na=recvonly\r\n", "2.2.2.2:5000", []string{"PCMA", "PCMU"}, "recvonly", false},
		{"no audio", "v=0\r\nc=IN IP4 1.1.1.1\r\nm=video 5000 RTP/AVP 96\r\n", "", nil, "", true},
		{"no connection", "v=0\r\nm=audio 5000 RTP/AVP 0\r\n", "", nil, "", true},
		{"bad port", "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio x RTP/AVP 0\r\n", "", nil, "", true},
		{"empty", "", "", nil, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sd, err := ParseSDP([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrSDP) {
					t.Fatalf("err = %v, want ErrSDP", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range sd.Codecs {
				names = append(names, c.Name)
			}
			if sd.Addr.String() != tc.addr || !reflect.DeepEqual(names, tc.codecs) || sd.Direction != tc.dir {
				t.Fatalf("got %s %v %s", sd.Addr, names, sd.Direction)
			}
		})
	}
}

func TestSDPRoundTrip(t *testing.T) {
	in := SessionDescription{SessionID: 42, Version: 3, Addr: netip.MustParseAddrPort("127.0.0.1:4002"), Codecs: DefaultCodecs(), Direction: "sendrecv"}
	out, err := ParseSDP(in.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n%+v\n%+v", in, out)
	}
}

func FuzzParseSDP(f *testing.F) {
	golden, err := os.ReadFile("testdata/asterisk_answer.sdp")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(SessionDescription{Addr: netip.MustParseAddrPort("[::1]:9"), Codecs: DefaultCodecs()}.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := ParseSDP(b)
		if err != nil {
			return
		}
		// Whatever parses must survive a marshal/parse round trip.
		again, err := ParseSDP(sd.Marshal())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", sd.Marshal(), err)
		}
		if again.Addr != netip.AddrPortFrom(sd.Addr.Addr().Unmap(), sd.Addr.Port()) || len(again.Codecs) != len(sd.Codecs) {
			t.Fatalf("round trip changed %+v -> %+v", sd, again)
		}
	})
}
