package main

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"time"
)

// lineCounter is the printf flood tracer's standard output: it counts the
// event lines ("E ...") and the events the tracer says it lost, and notes
// when the last event line arrived. Lines are not kept: a million of them
// would make the benchmark's own memory and CPU part of the measurement.
type lineCounter struct {
	mu      sync.Mutex
	partial []byte
	events  int64
	lost    int64
	last    time.Time
}

// Write is called by os/exec's copying goroutine.
func (c *lineCounter) Write(p []byte) (int, error) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.partial = append(c.partial, p...)
			break
		}
		line := p[:i]
		if len(c.partial) > 0 {
			line = append(c.partial, line...)
			c.partial = c.partial[:0]
		}
		c.line(line, now)
		p = p[i+1:]
	}
	return n, nil
}

// line handles one complete line.
func (c *lineCounter) line(l []byte, now time.Time) {
	if bytes.HasPrefix(l, []byte("E ")) {
		c.events++
		c.last = now
		return
	}
	c.lost += lostIn(string(l))
}

// snapshot returns the counts so far and when the last event arrived.
func (c *lineCounter) snapshot() (events, lost int64, last time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.events, c.lost, c.last
}

// waitQuiet waits until no event line has arrived for quiet (the tracer
// has delivered what it will deliver), or until limit has passed.
func (c *lineCounter) waitQuiet(quiet, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		_, _, last := c.snapshot()
		if !last.IsZero() && time.Since(last) >= quiet {
			return
		}
		time.Sleep(quiet / 10)
	}
}

// lostIn sums the "Lost N events" lines of a tracer's output: bpftrace
// prints one on standard output whenever its perf buffer dropped records,
// gotrace one on standard error at exit.
func lostIn(text string) int64 {
	var n int64
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "Lost" && (f[2] == "events" || f[2] == "event") {
			if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				n += v
			}
		}
	}
	return n
}
