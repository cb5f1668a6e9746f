//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/toritsugi/toritsugi/pkg/sipphone"
)

// The environment the scenario reads.
const (
	envARIURL      = "TORITSUGI_E2E_ARI_URL"
	envARIUser     = "TORITSUGI_E2E_ARI_USER"
	envARIPassword = "TORITSUGI_E2E_ARI_PASSWORD"
	envSIPAddr     = "TORITSUGI_E2E_SIP_ADDR"
	envSIPPassword = "TORITSUGI_E2E_SIP_PASSWORD"  // shared by every operator
	envSIPPwPrefix = "TORITSUGI_E2E_SIP_PASSWORD_" // + OP1001 … OP1004
	envSIPLocalIP  = "TORITSUGI_E2E_SIP_LOCAL_IP"  // optional
)

// operatorUsers are the operator endpoints of asterisk-conf/pjsip.conf.
var operatorUsers = []string{"op1001", "op1002", "op1003", "op1004"}

// errEnv reports a missing or unusable environment.
var errEnv = errors.New("e2e environment")

// env is the real PBX the scenario runs against.
type env struct {
	ARIURL, ARIUser, ARIPassword string
	SIPAddr                      string // host:port of Asterisk's SIP transports
	LocalIP                      netip.Addr
	Accounts                     []sipphone.OperatorAccount
}

// loadEnv reads the environment with lookup (os.LookupEnv). Its error
// names every variable that is missing, not only the first.
func loadEnv(lookup func(string) (string, bool)) (env, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	e := env{ARIURL: get(envARIURL), ARIUser: get(envARIUser), ARIPassword: get(envARIPassword), SIPAddr: get(envSIPAddr)}
	var missing []string
	for _, kv := range [][2]string{{envARIURL, e.ARIURL}, {envARIUser, e.ARIUser}, {envARIPassword, e.ARIPassword}, {envSIPAddr, e.SIPAddr}} {
		if kv[1] == "" {
			missing = append(missing, kv[0])
		}
	}
	shared := get(envSIPPassword)
	for _, u := range operatorUsers {
		pw := get(envSIPPwPrefix + strings.ToUpper(u))
		if pw == "" {
			pw = shared
		}
		if pw != "" {
			e.Accounts = append(e.Accounts, sipphone.OperatorAccount{User: u, Password: pw})
		}
	}
	if len(e.Accounts) == 0 {
		missing = append(missing, envSIPPassword+" (or "+envSIPPwPrefix+"OP1001 … _OP1004)")
	}
	if len(missing) > 0 {
		return env{}, fmt.Errorf("%w: set %s: the end-to-end scenario needs a real Asterisk 22 running asterisk-conf/ (see README, \"End-to-end test\")",
			errEnv, strings.Join(missing, ", "))
	}
	if _, _, err := net.SplitHostPort(e.SIPAddr); err != nil {
		return env{}, fmt.Errorf("%w: %s=%q is not host:port: %w", errEnv, envSIPAddr, e.SIPAddr, err)
	}
	ip, err := localIP(get(envSIPLocalIP), e.SIPAddr)
	if err != nil {
		return env{}, err
	}
	e.LocalIP = ip
	return e, nil
}

// localIP is the address the test phones bind: the override, or the local
// address the system routes to the PBX from (a UDP "connect" sends nothing).
func localIP(override, sipAddr string) (netip.Addr, error) {
	if override != "" {
		ip, err := netip.ParseAddr(override)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("%w: %s=%q: %w", errEnv, envSIPLocalIP, override, err)
		}
		return ip, nil
	}
	c, err := net.Dial("udp", sipAddr)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: no route to %s=%q: %w", errEnv, envSIPAddr, sipAddr, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}
