package sipbridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// diagoRegisterClient keeps one trunk binding with sipgo's client: every
// REGISTER of it shares the Call-ID and From tag and raises the CSeq (RFC
// 3261 10.2.4). diago's own RegisterTransaction is not used: its first
// REGISTER dereferences a nil response when the trunk does not answer.
type diagoRegisterClient struct {
	client   *sipgo.Client
	req      *sip.Request
	username string
	password string
}

// Registration is stack's: a binding of our address at the trunk r.
func (s *diagoStack) Registration(r registerReq) (registerClient, error) {
	host, ps, err := net.SplitHostPort(r.HostPort)
	if err != nil {
		return nil, fmt.Errorf("sip: trunk address %q: %w", r.HostPort, err)
	}
	port, _ := strconv.Atoi(ps)
	transport := strings.ToLower(r.Transport)
	if transport == "" {
		transport = "udp"
	}
	ourAddr := s.addr
	if transport == "tls" {
		if s.tlsAddr == "" {
			return nil, errors.New("sip: a trunk over tls needs a tls listener")
		}
		ourAddr = s.tlsAddr // the trunk calls us back there
	}
	ourHost, ourPS, _ := net.SplitHostPort(ourAddr)
	ourPort, _ := strconv.Atoi(ourPS)
	opts := []sipgo.ClientOption{sipgo.WithClientNAT(), sipgo.WithClientLogger(s.log)}
	if transport == "udp" {
		// From our listening socket: the trunk sends calls back to it.
		opts = append(opts, sipgo.WithClientConnectionAddr(s.addr))
	}
	contactHost := ourHost
	if s.public != "" {
		contactHost = s.public
		opts = append(opts, sipgo.WithClientHostname(s.public), sipgo.WithClientPort(ourPort))
	}
	client, err := sipgo.NewClient(s.ua, opts...)
	if err != nil {
		return nil, fmt.Errorf("sip: register client: %w", err)
	}
	aor := sip.Uri{Scheme: "sip", User: r.Username, Host: host, Port: port}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: host, Port: port})
	req.SetTransport(strings.ToUpper(transport))
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	ct := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: r.Username, Host: contactHost, Port: ourPort,
		UriParams: sip.NewParams(), Headers: sip.NewParams()}, Params: sip.NewParams()}
	ct.Address.UriParams.Add("transport", transport)
	req.AppendHeader(ct)
	return &diagoRegisterClient{client: client, req: req, username: r.Username, password: r.Password}, nil
}

// Register sends REGISTER asking for expires (0 removes the binding),
// answers one 401/407 challenge, and returns the lifetime the trunk
// granted: the Contact's expires parameter, else Expires, else what was
// asked.
func (c *diagoRegisterClient) Register(ctx context.Context, expires time.Duration) (time.Duration, error) {
	req := c.req
	req.RemoveHeader("Via")
	req.RemoveHeader("Expires")
	req.RemoveHeader("Authorization")
	req.RemoveHeader("Proxy-Authorization")
	exp := sip.ExpiresHeader(uint32(expires / time.Second))
	req.AppendHeader(&exp)
	res, err := c.client.Do(ctx, req, sipgo.ClientRequestRegisterBuild)
	if err != nil {
		return 0, fmt.Errorf("sip: register: %w", err)
	}
	if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
		if c.username == "" {
			return 0, &StatusError{Code: int(res.StatusCode), Reason: res.Reason}
		}
		res, err = c.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: c.username, Password: c.password})
		if err != nil {
			return 0, fmt.Errorf("sip: register: %w", err)
		}
	}
	if res.StatusCode != sip.StatusOK {
		return 0, &StatusError{Code: int(res.StatusCode), Reason: res.Reason}
	}
	return grantedExpiry(res, expires), nil
}

// grantedExpiry reads the lifetime a 200 to REGISTER grants our binding.
func grantedExpiry(res *sip.Response, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		if ct, ok := h.(*sip.ContactHeader); ok {
			if v, ok := ct.Params.Get("expires"); ok {
				if n, err := strconv.Atoi(v); err == nil && n >= 0 {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}
