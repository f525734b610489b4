package app

import (
	"net/netip"

	"github.com/flashvox/flashvox/cluster"
)

// pageRedirect is the page's redirect (web.Pages.Redirect): the cluster's
// choice of a less loaded node; nil without a cluster.
func pageRedirect(c *cluster.Cluster) func(string) string {
	if c == nil {
		return nil
	}
	return c.PageRedirect
}

// pageURLs is the API's list of the other nodes' pages (web.API.Pages),
// where a page goes when this node stops answering; nil without a
// cluster.
func pageURLs(c *cluster.Cluster) func() []string {
	if c == nil {
		return nil
	}
	return c.PageURLs
}

// knownPages is the API's list of the pages a page moving here may come
// from (web.API.KnownPages); nil without a cluster.
func knownPages(c *cluster.Cluster) func() []string {
	if c == nil {
		return nil
	}
	return c.KnownPages
}

// rtmfpPlace is the RTMFP server's placement (rtmfp.Config.Place): the
// cluster's choice of a less loaded node's RTMFP address; nil without a
// cluster.
func rtmfpPlace(c *cluster.Cluster) func() []netip.AddrPort {
	if c == nil {
		return nil
	}
	return c.RTMFPRedirect
}
