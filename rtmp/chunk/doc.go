// Package chunk is the RTMP chunk stream (RTMP 1.0 §5.3): a Reader that
// reassembles messages from chunks of any header type, chunk stream id form
// and extended-timestamp style, within a byte budget and size limits that a
// peer cannot talk its way past, and a Writer that splits messages into
// chunks with the smallest header the previous one allows and allocates
// nothing per message.
//
// It is written here rather than taken from gortmplib's pkg/rawmessage:
// rawmessage lacks the 2- and 3-byte chunk stream id forms, has a hard
// 10 MiB message limit and allocates the declared body size before any of
// the body arrives, which lets one header claim memory it never sends.
package chunk
