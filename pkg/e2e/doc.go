// Package e2e holds toritsugi's end-to-end scenario against a real
// Asterisk 22 configured with asterisk-conf/. Its tests carry the build tag
// "e2e" and run with `make e2e`, never with `make test`: they need a live
// PBX, given by the environment variables
//
//	TORITSUGI_E2E_ARI_URL       e.g. http://127.0.0.1:8088/ari
//	TORITSUGI_E2E_ARI_USER      e.g. toritsugi
//	TORITSUGI_E2E_ARI_PASSWORD  the password of ari.conf [toritsugi]
//	TORITSUGI_E2E_SIP_ADDR      host:port where the trunk and the operator
//	                            endpoints listen, e.g. 127.0.0.1:5060
//
// and the operators' SIP passwords, TORITSUGI_E2E_SIP_PASSWORD_OP1001 …
// _OP1004 or one shared TORITSUGI_E2E_SIP_PASSWORD. The optional
// TORITSUGI_E2E_SIP_LOCAL_IP is the address the test phones bind (default:
// the local address that routes to TORITSUGI_E2E_SIP_ADDR); it must be the
// [trunk] identify match in pjsip.conf. The scenario fails, naming what is
// missing, when the variables are not set.
//
// The package has no non-test code: this file only makes it exist without
// the tag.
package e2e
