package password_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/password"
)

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$`)

func TestHashDefaultIsPHC(t *testing.T) {
	h, err := password.Hash("パスワード")
	if err != nil {
		t.Fatal(err)
	}
	if !phc.MatchString(h) || !strings.Contains(h, "m=19456,t=2,p=1") {
		t.Fatalf("hash %q is not an argon2id PHC string with the default cost", h)
	}
	if !password.Check(h, "パスワード") || password.Check(h, "パスワート") {
		t.Fatal("default hash does not verify correctly")
	}
	h2, _ := password.Hash("パスワード")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestCheck(t *testing.T) {
	h, err := password.HashWith("secret-pw", password.Params{MemoryKiB: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct {
		name, hash, pw string
		want           bool
	}{
		{"right", h, "secret-pw", true},
		{"wrong", h, "secret-pw ", false},
		{"empty password", h, "", false},
		{"empty hash", "", "secret-pw", false},
		{"argon2i", with(1, "argon2i"), "secret-pw", false},
		{"old version", with(2, "v=16"), "secret-pw", false},
		{"huge memory", with(3, "m=4294967295,t=1,p=1"), "secret-pw", false},
		{"zero time", with(3, "m=64,t=0,p=1"), "secret-pw", false},
		{"bad salt", with(4, "!!!"), "secret-pw", false},
		{"short key", with(5, "AAAA"), "secret-pw", false},
		{"extra part", h + "$x", "secret-pw", false},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuv", "secret-pw", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := password.Check(tt.hash, tt.pw); got != tt.want {
				t.Fatalf("Check = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHashWithRefusesBadParams(t *testing.T) {
	for _, p := range []password.Params{{}, {MemoryKiB: 64, Time: 0, Threads: 1}, {MemoryKiB: 64, Time: 1}, {MemoryKiB: 1 << 30, Time: 1, Threads: 1}} {
		if _, err := password.HashWith("x", p); err == nil {
			t.Errorf("HashWith(%+v) accepted", p)
		}
	}
}
