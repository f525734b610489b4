// Package message is RTMP's message layer, shared by every transport that
// carries RTMP messages (the RTMP chunk stream, RTMFP's flows): the Message
// {type, timestamp, stream id, payload}, the message type ids, protocol
// control and User Control messages, commands (NetConnection/NetStream
// invokes) and data messages encoded in AMF, and aggregates.
//
// It knows no chunking, sockets or sessions, so rtmfp and the command layer
// can use it without the RTMP connection layer.
package message
