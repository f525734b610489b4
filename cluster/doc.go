// Package cluster joins flashvox nodes into one service over NATS: each
// node runs an embedded nats-server that routes to its peers (or is a
// client of an external NATS), publishes a heartbeat with its load, and
// fetches on demand the streams other nodes publish.
//
// Media across nodes: when a local player wants a key nobody publishes
// here (media.Hub.WatchDemand), the node asks the cluster who publishes it
// (subject flashvox.where, answered by the publishing node only),
// subscribes to that node's frames subject of the key and publishes what
// arrives into its own hub as a relay publisher, so local fan-out works as
// for any publisher. The publishing node taps its stream and sends each
// frame once on NATS, however many nodes and players listen; it stops
// when no node has renewed its interest for three heartbeats. The last
// local player leaving stops the relay.
//
// Variants (variants.go, export_variant.go): a player that wants a
// remote stream in another codec gets it transcoded by the publishing
// node, once per (stream, codec) for the cluster, on its own subject; the
// player's node publishes it under the derived key as a relay. It is the
// transcode.Remote of the node's transcode.Service.
//
// Names (claim.go, contest.go): a client's publish of a name is claimed
// across the nodes first; a name two nodes publish anyway (a claim
// accepted unchecked, a partition) is settled when they hear each other:
// the later claim's node ends its publisher. The claims in flight and
// the held publications are guarded by one mutex (claims.mu).
//
// Who owns what: Node owns the NATS connection and the node table
// (nodes.go); the importer (relay.go) owns the relays and variant
// relays, on its one goroutine, and the inbox (inbox.go) delivers their
// frames on one; the exporter (export.go) owns the exports, whose taps add
// their frames to one batch per node (batch.go) that its one sender
// goroutine publishes; Serve owns the goroutine that renews the
// conference room leases (lease.go) when the store is shared.
// docs/CLUSTER.md is the design.
package cluster
