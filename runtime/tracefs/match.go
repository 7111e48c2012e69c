package tracefs

import (
	"fmt"
	"path"
	"strings"
)

// HasWildcard reports whether s contains a wildcard character that Glob
// interprets: '*', '?' or '['.
func HasWildcard(s string) bool {
	return strings.ContainsAny(s, "*?[")
}

// Glob reports whether name matches the shell pattern, with the semantics of
// path.Match: '*' matches any run of characters, '?' any one character,
// '[a-z]' and '[^a-z]' a character class, and '\\' escapes the next
// character. Tracepoint categories and names never contain '/', so the one
// difference from a shell (that '*' does not cross '/') never shows.
//
// bpftrace itself implements only '*' (and character classes in listing);
// the others are a superset that no valid bpftrace program is affected by.
// The only error is path.ErrBadPattern for a malformed pattern.
func Glob(pattern, name string) (bool, error) {
	return path.Match(pattern, name)
}

// Match expands the pattern category:name, either part of which may contain
// wildcards (see Glob), into the matching tracepoints, sorted. It is an error
// if nothing matches.
func (fs *FS) Match(category, name string) ([]Tracepoint, error) {
	if tps, ok := fs.Lookup(category, name); ok {
		return tps, nil
	}
	all, err := fs.Tracepoints()
	if err != nil {
		return nil, err
	}
	return Filter(all, category, name)
}

// Filter returns the tracepoints in tps whose category and name match the
// given patterns, in the order of tps. It is an error if the patterns are
// malformed or if nothing matches; the error names the pattern.
func Filter(tps []Tracepoint, category, name string) ([]Tracepoint, error) {
	pattern := category + ":" + name
	// Check both patterns up front: path.Match may not notice a syntax
	// error in the part of a pattern it never reaches.
	for _, p := range []string{category, name} {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("invalid tracepoint pattern %q: %w", pattern, err)
		}
	}
	var out []Tracepoint
	for _, tp := range tps {
		okCat, _ := path.Match(category, tp.Category)
		if !okCat {
			continue
		}
		if okName, _ := path.Match(name, tp.Name); okName {
			out = append(out, tp)
		}
	}
	if len(out) == 0 {
		if HasWildcard(category) || HasWildcard(name) {
			return nil, fmt.Errorf("no tracepoint matches %q", pattern)
		}
		return nil, fmt.Errorf("tracepoint %q not found", pattern)
	}
	return out, nil
}

// isLiteral reports whether the pattern p matches only the name p: it has
// no wildcard and no '\\' escape.
func isLiteral(p string) bool {
	return !strings.ContainsAny(p, `*?[\`)
}

// Lookup finds the tracepoint category:name, neither part of which has a
// wildcard, the quick way: by its directory, instead of reading the list
// of every tracepoint, which takes milliseconds to read, sort and search.
// It finds the ones the list has: an event is listed in available_events
// exactly when its directory has an enable file (see Tracepoints). ok is
// false for a pattern with a wildcard and for an event Lookup does not
// find: Match then reads the list, which says what is missing in its
// error, and which a copy of a tracing filesystem without enable files
// (as tests make) still lists.
func (fs *FS) Lookup(category, name string) (tps []Tracepoint, ok bool) {
	if !isLiteral(category) || !isLiteral(name) ||
		validName("category", category) != nil || validName("name", name) != nil ||
		!isFile(fs.path("events", category, name, "enable")) {
		return nil, false
	}
	return []Tracepoint{{Category: category, Name: name}}, true
}
