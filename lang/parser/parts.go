package parser

import (
	"runtime"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// A large script is parsed in parts, one per CPU, at the same time: each
// part is a run of whole top-level items, and a program is nothing but its
// items in order, so the parts' items joined are the program. Parts are cut
// only where a '}' closes a top-level item and an attach point starts the
// next probe, which is always a boundary between items. When any part fails
// to parse, the whole script is parsed again in one piece, so that errors
// are found and reported exactly as in a sequential parse.

// partsMinTokens is the size below which a script is parsed in one piece:
// starting goroutines would cost more than they save.
const partsMinTokens = 20000

// parseInParts parses toks (which end with EOF) in parts, or returns nil
// when the script is small, cannot be cut, or a part fails.
func parseInParts(p *participle.Parser[program], toks []lexer.Token) *program {
	if len(toks) < partsMinTokens {
		return nil
	}
	return parseParts(p, cutParts(toks, runtime.GOMAXPROCS(0)))
}

// parseParts parses the parts of a script concurrently and joins them, or
// returns nil when there are fewer than two or one fails.
func parseParts(p *participle.Parser[program], parts []tokenStream) *program {
	if len(parts) < 2 {
		return nil
	}
	trees := make([]*program, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Go(func() {
			defer func() {
				// As in parseTree: a panic is an internal error; the
				// sequential parse will report it.
				_ = recover()
			}()
			peek, err := lexer.Upgrade(&part)
			if err != nil {
				return
			}
			if tree, err := p.ParseFromLexer(peek); err == nil {
				trees[i] = tree
			}
		})
	}
	wg.Wait()
	whole := &program{}
	for _, t := range trees {
		if t == nil {
			return nil
		}
		whole.Items = append(whole.Items, t.Items...)
	}
	return whole
}

// cutParts splits toks into at most n parts of about equal length at
// boundaries between top-level items. A part ends with an EOF token at the
// position of the next part's first token.
func cutParts(toks []lexer.Token, n int) []tokenStream {
	var parts []tokenStream
	start, depth := 0, 0
	want := len(toks) / max(n, 1)
	for i, t := range toks {
		if t.Type != tokPunct {
			continue
		}
		switch t.Value {
		case "{":
			depth++
		case "}":
			depth--
			if depth < 0 {
				return nil // unbalanced: leave it to the sequential parse
			}
			next := i + 1
			if depth == 0 && next-start >= want && len(parts) < n-1 && next < len(toks) && toks[next].Type == tokAttach {
				parts = append(parts, tokenStream{toks: toks[start:next], eof: lexer.Token{Type: tokEOF, Pos: toks[next].Pos}})
				start = next
			}
		}
	}
	return append(parts, tokenStream{toks: toks[start:]})
}
