package runtime

import (
	"bytes"
	"fmt"
	"io"
)

// Format is how a run writes what the script prints.
type Format int

// Output formats, as bpftrace's -f option names them.
const (
	// TextFormat is bpftrace's text output (the default).
	TextFormat Format = iota
	// JSONFormat is newline-delimited JSON: one object per line with a
	// "type" and, for most types, a "data" member, in the layout of
	// bpftrace's -f json (see json.go for the details and the choices
	// made where bpftrace's own output would not be valid JSON).
	JSONFormat
)

// ParseFormat reads a -f value: "text" or "json".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "text":
		return TextFormat, nil
	case "json":
		return JSONFormat, nil
	}
	return 0, fmt.Errorf("invalid output format %q (valid: text, json)", s)
}

// Buffering says when output reaches RunOptions.Stdout, as bpftrace's -B
// option does. Output is always complete when Run returns.
type Buffering int

// Buffering modes.
const (
	// BufferAuto writes output once every record the ring buffer held has
	// been handled: at once when events are rare, in large writes under
	// load. Lines may be written in pieces when printf writes them so.
	BufferAuto Buffering = iota
	// BufferNone writes the output of every record as soon as it is
	// formatted.
	BufferNone
	// BufferLine writes output up to its last newline after every record;
	// a line without its newline waits for it (bpftrace's default).
	BufferLine
	// BufferFull writes output only when outBufferSize bytes have
	// accumulated, and at the end of the run.
	BufferFull
)

// ParseBuffering reads a -B value: "none", "line" or "full".
func ParseBuffering(s string) (Buffering, error) {
	switch s {
	case "none":
		return BufferNone, nil
	case "line":
		return BufferLine, nil
	case "full":
		return BufferFull, nil
	}
	return 0, fmt.Errorf("invalid buffering mode %q (valid: none, line, full)", s)
}

// outBufferSize is how much output is held before it is written whatever
// the mode.
const outBufferSize = 64 << 10

// outBuffer holds the script's output until its Buffering mode says to
// write it. The first write error is kept and returned from then on.
type outBuffer struct {
	w    io.Writer
	mode Buffering
	buf  []byte
	err  error
}

func newOutBuffer(w io.Writer, mode Buffering) *outBuffer {
	return &outBuffer{w: w, mode: mode}
}

// Write implements io.Writer.
func (b *outBuffer) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= outBufferSize {
		if err := b.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// WriteString implements io.StringWriter.
func (b *outBuffer) WriteString(s string) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	b.buf = append(b.buf, s...)
	if len(b.buf) >= outBufferSize {
		if err := b.Flush(); err != nil {
			return 0, err
		}
	}
	return len(s), nil
}

// Flush writes everything held.
func (b *outBuffer) Flush() error {
	return b.writeUpTo(len(b.buf))
}

// writeUpTo writes the first n bytes held and keeps the rest.
func (b *outBuffer) writeUpTo(n int) error {
	if b.err != nil {
		return b.err
	}
	if n == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf[:n])
	if err != nil {
		b.err = err
		return err
	}
	b.buf = b.buf[:copy(b.buf, b.buf[n:])]
	return nil
}

// recordDone is called after each ring buffer record has been handled;
// more says whether more records are waiting.
func (b *outBuffer) recordDone(more bool) error {
	switch b.mode {
	case BufferNone:
		return b.Flush()
	case BufferLine:
		return b.writeUpTo(bytes.LastIndexByte(b.buf, '\n') + 1)
	case BufferAuto:
		if !more {
			return b.Flush()
		}
	}
	return nil
}

// idle is called when the ring buffer has run empty.
func (b *outBuffer) idle() error {
	if b.mode == BufferAuto {
		return b.Flush()
	}
	return nil
}
