package rtmp

import (
	"fmt"
	"time"

	"github.com/flashvox/flashvox/rtmp/chunk"
)

// ConnConfig holds the per-connection settings. Zero fields take the values of
// DefaultConnConfig (see WithDefaults); every default lives there.
type ConnConfig struct {
	// ChunkSize is the outgoing chunk size, announced with Set Chunk Size
	// right after the handshake.
	ChunkSize int `yaml:"chunk_size"`
	// MaxMessageSize bounds a message body a peer may declare.
	MaxMessageSize int `yaml:"max_message_size"`
	// MaxChunkStreams bounds the chunk stream ids a peer may use.
	MaxChunkStreams int `yaml:"max_chunk_streams"`
	// PreConnectBuffer bounds the bytes of unfinished messages (the sum of
	// their declared sizes, over all chunk streams) a peer may hold before
	// its connect is admitted (Conn.Admit); MaxBuffered after.
	PreConnectBuffer int `yaml:"preconnect_buffer"`
	MaxBuffered      int `yaml:"max_buffered"`
	// WriteQueue is the number of messages waiting for the writer goroutine.
	WriteQueue int `yaml:"write_queue"`
	// ReadTimeout closes a connection that sent nothing for this long.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout is the deadline of each write to the socket.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// PingInterval: after this long without input, a PingRequest is sent.
	// Negative disables pinging (clients do not ping).
	PingInterval time.Duration `yaml:"ping_interval"`
	// HandshakeTimeout bounds the whole handshake.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
}

// DefaultConnConfig returns the defaults: the one place they are written.
func DefaultConnConfig() ConnConfig {
	return ConnConfig{
		ChunkSize:        4096,
		MaxMessageSize:   1 << 20,
		MaxChunkStreams:  64,
		PreConnectBuffer: 32 << 10,
		MaxBuffered:      4 << 20,
		WriteQueue:       256,
		ReadTimeout:      60 * time.Second,
		WriteTimeout:     10 * time.Second,
		PingInterval:     20 * time.Second,
		HandshakeTimeout: 5 * time.Second,
	}
}

// WithDefaults returns c with every zero field set to its default.
func (c ConnConfig) WithDefaults() ConnConfig {
	d := DefaultConnConfig()
	if c.ChunkSize == 0 {
		c.ChunkSize = d.ChunkSize
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = d.MaxMessageSize
	}
	if c.MaxChunkStreams == 0 {
		c.MaxChunkStreams = d.MaxChunkStreams
	}
	if c.PreConnectBuffer == 0 {
		c.PreConnectBuffer = d.PreConnectBuffer
	}
	if c.MaxBuffered == 0 {
		c.MaxBuffered = d.MaxBuffered
	}
	if c.WriteQueue == 0 {
		c.WriteQueue = d.WriteQueue
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = d.ReadTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.PingInterval == 0 {
		c.PingInterval = d.PingInterval
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = d.HandshakeTimeout
	}
	return c
}

// Validate reports the first out-of-range field by its yaml name.
func (c ConnConfig) Validate() error {
	switch {
	case c.ChunkSize < chunk.MinSize || c.ChunkSize > chunk.MaxSize:
		return fmt.Errorf("rtmp.chunk_size: must be %d..%d", chunk.MinSize, chunk.MaxSize)
	case c.MaxMessageSize < 1 || c.MaxMessageSize > 1<<24-1:
		return fmt.Errorf("rtmp.max_message_size: must be 1..%d", 1<<24-1)
	case c.MaxChunkStreams < 1 || c.MaxChunkStreams > 65598:
		return fmt.Errorf("rtmp.max_chunk_streams: must be 1..65598")
	case c.PreConnectBuffer < 1024 || c.PreConnectBuffer > c.MaxBuffered:
		return fmt.Errorf("rtmp.preconnect_buffer: must be 1024..rtmp.max_buffered (%d)", c.MaxBuffered)
	case c.MaxBuffered < c.MaxMessageSize:
		return fmt.Errorf("rtmp.max_buffered: must be at least rtmp.max_message_size (%d)", c.MaxMessageSize)
	case c.WriteQueue < 1:
		return fmt.Errorf("rtmp.write_queue: must be at least 1")
	case c.ReadTimeout <= 0:
		return fmt.Errorf("rtmp.read_timeout: must be positive")
	case c.WriteTimeout <= 0:
		return fmt.Errorf("rtmp.write_timeout: must be positive")
	case c.PingInterval > 0 && c.PingInterval >= c.ReadTimeout:
		return fmt.Errorf("rtmp.ping_interval: must be shorter than read_timeout")
	case c.HandshakeTimeout <= 0:
		return fmt.Errorf("rtmp.handshake_timeout: must be positive")
	}
	return nil
}
