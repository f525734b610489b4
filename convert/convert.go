package convert

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/codec/resample"
	"github.com/flashvox/flashvox/container/flv"
	"github.com/flashvox/flashvox/container/wav"
)

// Options tune a conversion.
type Options struct {
	// Codec is the codec of FLV output (default Nellymoser, Flash's own).
	// Only codecs FLV can carry: nellymoser, speex, pcmu, pcma.
	Codec codec.ID
	// Rate is the sample rate of the output in Hz: for WAV output the
	// default is the first audio tag's rate; for FLV output the codec's
	// default (Nellymoser also runs at 5512, 8000, 11025, 22050, 44100).
	Rate int
}

// File converts in to out, formats chosen by extension (.flv, .wav). The
// output is written to a temporary file beside out and renamed into place
// on success, so a failed conversion leaves no partial file.
func File(in, out string, opts Options) error {
	from, to := strings.ToLower(filepath.Ext(in)), strings.ToLower(filepath.Ext(out))
	var conv func(io.Reader, io.WriteSeeker, Options) error
	switch {
	case from == ".flv" && to == ".wav":
		conv = FLVToWAV
	case from == ".wav" && to == ".flv":
		conv = WAVToFLV
	default:
		return fmt.Errorf("%w: %s → %s (flashvox converts .flv → .wav and .wav → .flv)", ErrFormat, from, to)
	}
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if err := conv(src, tmp, opts); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// FLVToWAV decodes the audio tags of an FLV stream into a mono 16-bit WAV.
func FLVToWAV(r io.Reader, w io.WriteSeeker, opts Options) error {
	fr, err := flv.NewReader(r)
	if err != nil {
		return err
	}
	d := &flvDecoder{outRate: opts.Rate}
	defer d.close()
	for {
		t, err := fr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if t.Type != flv.TagAudio || len(t.Data) == 0 {
			continue
		}
		if err := d.tag(t, w); err != nil {
			return err
		}
	}
	if d.wav == nil {
		return ErrNoAudio
	}
	if err := d.finishSegment(); err != nil {
		return err
	}
	return d.wav.Close()
}

// flvDecoder turns audio tags into PCM at one rate, following the codec.
type flvDecoder struct {
	outRate  int
	wav      *wav.Writer
	id       codec.ID
	rate     int
	dec      codec.Decoder
	rs       *resample.Resampler
	pcm, out []int16
}

func (d *flvDecoder) tag(t flv.Tag, w io.WriteSeeker) error {
	a, pkt, err := codec.SplitFLVAudio(t.Data)
	id, rate := a.ID, a.Rate
	if err != nil {
		return fmt.Errorf("audio tag at %d ms: %w", t.Timestamp, err)
	}
	if d.wav == nil {
		if d.outRate == 0 {
			d.outRate = rate
		}
		if d.wav, err = wav.NewWriter(w, d.outRate); err != nil {
			return err
		}
	}
	if id != d.id || rate != d.rate {
		if err := d.finishSegment(); err != nil {
			return err
		}
		if d.dec, err = codecs.NewDecoder(id, rate); err != nil {
			return fmt.Errorf("audio tag at %d ms: %w", t.Timestamp, err)
		}
		d.id, d.rate = id, rate
		if rate != d.outRate {
			if d.rs, err = resample.New(rate, d.outRate); err != nil {
				return err
			}
		}
	}
	d.pcm, err = d.dec.Decode(d.pcm[:0], pkt)
	if err != nil {
		return fmt.Errorf("%w: %s audio tag at %d ms: %w", flv.ErrDamaged, id, t.Timestamp, err)
	}
	return d.write(d.pcm)
}

func (d *flvDecoder) write(pcm []int16) error {
	if d.rs != nil {
		d.out = d.rs.Resample(d.out[:0], pcm)
		pcm = d.out
	}
	return d.wav.Write(pcm)
}

// finishSegment ends the audio of one codec: the resampler gives back what
// it holds and the decoder is freed.
func (d *flvDecoder) finishSegment() error {
	var err error
	if d.rs != nil {
		d.out = d.rs.Flush(d.out[:0])
		err = d.wav.Write(d.out)
	}
	d.close()
	d.dec, d.rs, d.id, d.rate = nil, nil, 0, 0
	return err
}

func (d *flvDecoder) close() {
	if c, ok := d.dec.(io.Closer); ok {
		_ = c.Close()
	}
}

// flvCodecs are the codecs WAVToFLV encodes.
var flvCodecs = []codec.ID{codec.Nellymoser, codec.Speex, codec.PCMU, codec.PCMA}

// WAVToFLV encodes a 16-bit WAV stream as an audio-only FLV, one codec
// frame per tag, timestamps counted in samples.
func WAVToFLV(r io.Reader, w io.WriteSeeker, opts Options) error {
	id := opts.Codec
	if id == 0 {
		id = codec.Nellymoser
	}
	if !slices.Contains(flvCodecs, id) {
		return fmt.Errorf("%w: %s cannot be carried in FLV (it has no FLV SoundFormat); choose nellymoser, speex, pcmu or pcma", ErrFormat, id)
	}
	rate := opts.Rate
	if rate == 0 {
		in, _ := codec.Lookup(id)
		rate = in.SampleRate
	}
	header, err := codec.FLVAudioHeader(id, rate)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	enc, err := codecs.NewEncoder(id, rate)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if c, ok := enc.(io.Closer); ok {
		defer c.Close()
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	pcm, inRate, err := wav.Parse(b)
	if err != nil {
		return err
	}
	if inRate != rate {
		rs, err := resample.New(inRate, rate)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrFormat, err)
		}
		pcm = rs.Flush(rs.Resample(make([]int16, 0, len(pcm)*rate/inRate+64), pcm))
	}
	n := enc.FrameSamples()
	if rem := len(pcm) % n; rem != 0 {
		pcm = append(pcm, make([]int16, n-rem)...) // pad the last frame with silence
	}
	fw, err := flv.NewWriter(w, flv.Tracks{Audio: true})
	if err != nil {
		return err
	}
	var pkt []byte
	for i := 0; i < len(pcm); i += n {
		if pkt, err = enc.Encode(append(pkt[:0], header), pcm[i:i+n]); err != nil {
			return err
		}
		ts := uint32(int64(i) * 1000 / int64(rate))
		if err := fw.WriteTag(flv.Tag{Type: flv.TagAudio, Timestamp: ts, Data: pkt}); err != nil {
			return err
		}
	}
	return fw.Flush()
}

// OutputName is the file Batch writes for in inside dir: the same base
// name with the other extension (.flv ↔ .wav).
func OutputName(dir, in string) (string, error) {
	ext := strings.ToLower(filepath.Ext(in))
	base := strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
	switch ext {
	case ".flv":
		return filepath.Join(dir, base+".wav"), nil
	case ".wav":
		return filepath.Join(dir, base+".flv"), nil
	}
	return "", fmt.Errorf("%w: %q (want .flv or .wav)", ErrFormat, in)
}
