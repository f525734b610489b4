package cluster

import (
	"cmp"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Load placement beyond RTMP connects (Redirect, cluster.go): a node with
// more clients (Load.Clients: RTMP and RTMFP connections plus the page's
// users) than Options.RedirectAbove sends a new page load (HTTP 307) and
// a new RTMFP handshake (a Redirect chunk instead of the RHello) to the
// other node with the fewest clients below the mark, as of its last
// heartbeat. When no node is below it the client is served here, so
// nothing bounces between full nodes.

// over reports whether this node is above its mark.
func (c *Cluster) over() bool {
	return c.o.RedirectAbove > 0 && c.o.Load().Clients() > c.o.RedirectAbove
}

// PageURLs is where a page signed in here goes when this node stops
// answering (web/static/app.js): the page URL (cluster.http_url) of
// every other live node, the least loaded first. Only http and https
// URLs are listed, so a member's odd announcement never becomes a
// javascript: or data: navigation in a page.
func (c *Cluster) PageURLs() []string {
	type page struct {
		url     string
		clients int
	}
	var pages []page
	for _, n := range c.nodes.list() {
		if n.Node == c.o.Node || n.HTTP == "" {
			continue
		}
		if u, err := url.Parse(n.HTTP); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		pages = append(pages, page{n.HTTP, n.Load.Clients()})
	}
	slices.SortStableFunc(pages, func(a, b page) int { return cmp.Compare(a.clients, b.clients) })
	out := make([]string, len(pages))
	for i, p := range pages {
		out[i] = p.url
	}
	return out
}

// knownPagesFor is how long a node's page URL stays known after its last
// heartbeat: long past its loss, for the pages that move from it.
const knownPagesFor = 10 * time.Minute

// KnownPages are the page URLs (cluster.http_url) of the other nodes
// this node heard from within the last 10 minutes, lost ones included:
// where a page that moves here after its node was lost comes from. The
// page rejoins its conference room only when it came from one of them
// (web/static/app.js resume; docs/SECURITY.md "Cluster").
func (c *Cluster) KnownPages() []string {
	return c.nodes.knownPages(time.Now())
}

// PageRedirect is the URL a new page load of requestURI (path and query)
// goes to instead of being served here, or "": the HTTPURL of the least
// loaded other node while this one is above its mark.
func (c *Cluster) PageRedirect(requestURI string) string {
	if !c.over() {
		return ""
	}
	to := c.nodes.leastLoadedBy(c.o.Node, c.o.RedirectAbove, func(n *NodeInfo) string { return n.HTTP })
	if to == "" {
		return ""
	}
	return strings.TrimRight(to, "/") + "/" + strings.TrimLeft(requestURI, "/")
}

// RTMFPRedirect is where a new RTMFP handshake goes instead of being
// answered here (rtmfp.Config.Place), or nil: the RTMFP address of the
// least loaded other node while this one is above its mark.
func (c *Cluster) RTMFPRedirect() []netip.AddrPort {
	if !c.over() {
		return nil
	}
	to := c.nodes.leastLoadedBy(c.o.Node, c.o.RedirectAbove, func(n *NodeInfo) string { return n.RTMFP })
	a, err := netip.ParseAddrPort(to)
	if err != nil {
		return nil // none, or a member's address that is no IP:port
	}
	return []netip.AddrPort{a}
}
