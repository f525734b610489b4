// Package account holds who may sign in: the configured accounts with
// their argon2id hashes and SIP HA1s, the signed tokens that a login or a
// site's backend issues, their revocation and expiry (Watch), and the
// throttled checks (Guard) every transport makes. Package call (calls,
// presence, events) builds on it; it knows nothing of calls.
package account
