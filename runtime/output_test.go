package runtime

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// writeLog records each Write it receives.
type writeLog struct{ writes []string }

func (w *writeLog) Write(p []byte) (int, error) {
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

// TestOutBuffer checks what reaches the writer, write by write, in each
// buffering mode, for three records: "a" (no newline), "b\nc", "d\n",
// then the end of the run.
func TestOutBuffer(t *testing.T) {
	tests := []struct {
		mode Buffering
		// more says whether records were waiting after each record.
		more []bool
		want []string
	}{
		{BufferNone, []bool{true, true, false}, []string{"a", "b\nc", "d\n"}},
		{BufferLine, []bool{true, true, false}, []string{"ab\n", "cd\n"}},
		{BufferFull, []bool{true, true, false}, []string{"ab\ncd\n"}},
		// Auto writes when the ring buffer has run empty.
		{BufferAuto, []bool{true, true, false}, []string{"ab\ncd\n"}},
		{BufferAuto, []bool{false, true, false}, []string{"a", "b\ncd\n"}},
	}
	for _, tt := range tests {
		w := &writeLog{}
		b := newOutBuffer(w, tt.mode)
		for i, rec := range []string{"a", "b\nc", "d\n"} {
			b.WriteString(rec)
			if err := b.recordDone(tt.more[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Flush(); err != nil {
			t.Fatal(err)
		}
		if strings.Join(w.writes, "|") != strings.Join(tt.want, "|") {
			t.Errorf("mode %d, more %v: writes %q, want %q", tt.mode, tt.more, w.writes, tt.want)
		}
	}
}

// TestOutBufferFull checks that even full buffering writes once
// outBufferSize bytes are held.
func TestOutBufferFull(t *testing.T) {
	w := &writeLog{}
	b := newOutBuffer(w, BufferFull)
	line := strings.Repeat("x", 1023) + "\n"
	for i := 0; i < outBufferSize/len(line)+1; i++ {
		b.WriteString(line)
		b.recordDone(true)
	}
	if len(w.writes) != 1 || len(w.writes[0]) != outBufferSize {
		t.Errorf("got %d writes (first %d bytes), want one of %d bytes", len(w.writes), len(w.writes[0]), outBufferSize)
	}
}

func TestParseFormatAndBuffering(t *testing.T) {
	if f, err := ParseFormat("json"); err != nil || f != JSONFormat {
		t.Errorf("ParseFormat(json) = %v, %v", f, err)
	}
	if f, err := ParseFormat("text"); err != nil || f != TextFormat {
		t.Errorf("ParseFormat(text) = %v, %v", f, err)
	}
	if _, err := ParseFormat("jsonx"); err == nil || err.Error() != `invalid output format "jsonx" (valid: text, json)` {
		t.Errorf("ParseFormat(jsonx) error = %v", err)
	}
	for s, want := range map[string]Buffering{"none": BufferNone, "line": BufferLine, "full": BufferFull} {
		if m, err := ParseBuffering(s); err != nil || m != want {
			t.Errorf("ParseBuffering(%s) = %v, %v", s, m, err)
		}
	}
	if _, err := ParseBuffering("auto"); err == nil {
		t.Error("ParseBuffering(auto) succeeded")
	}
}

func TestHelperName(t *testing.T) {
	tests := map[asm.BuiltinFunc]string{
		asm.FnProbeReadKernelStr: "probe_read_kernel_str",
		asm.FnProbeReadUser:      "probe_read_user",
		asm.FnMapLookupElem:      "map_lookup_elem",
	}
	for fn, want := range tests {
		if got := helperName(fn); got != want {
			t.Errorf("helperName(%v) = %q, want %q", fn, got, want)
		}
	}
	if got := errnoText(-14); got != "Bad address" {
		t.Errorf("errnoText(-14) = %q", got)
	}
}
