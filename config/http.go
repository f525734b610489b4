package config

// validateHTTPTLS: http.tls_listen needs both halves of its pair, and a
// pair needs the listener (a lone half is a typo), as for rtmp.tls_*.
func (c *Config) validateHTTPTLS() error {
	h := c.HTTP
	switch {
	case h.TLSListen != "" && h.TLSCert == "":
		return &Error{Key: "http.tls_cert", Msg: "required by http.tls_listen"}
	case h.TLSListen != "" && h.TLSKey == "":
		return &Error{Key: "http.tls_key", Msg: "required by http.tls_listen"}
	case (h.TLSCert == "") != (h.TLSKey == ""):
		return &Error{Key: "http.tls_key", Msg: "http.tls_cert and http.tls_key go together"}
	case h.TLSListen == "" && h.TLSCert != "":
		return &Error{Key: "http.tls_cert", Msg: "set without http.tls_listen"}
	}
	return nil
}
