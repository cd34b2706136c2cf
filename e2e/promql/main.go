// SPDX-License-Identifier: Apache-2.0
// zl-promql: parses PromQL with Prometheus's own parser, so that the alert
// rules and the dashboard of deploy/monitoring are checked for what the API
// server cannot see (their expressions). Reads one expression per line of a
// JSON array on stdin ([{"where": ..., "expr": ...}]); prints each one that
// does not parse, with the parser's message, and exits 1 if any did not.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/prometheus/prometheus/promql/parser"
)

type item struct {
	Where string `json:"where"`
	Expr  string `json:"expr"`
}

func main() {
	var items []item
	if err := json.NewDecoder(os.Stdin).Decode(&items); err != nil {
		fmt.Fprintf(os.Stderr, "zl-promql: stdin: %v\n", err)
		os.Exit(2)
	}
	p := parser.NewParser(parser.Options{})
	bad := 0
	for _, it := range items {
		if _, err := p.ParseExpr(it.Expr); err != nil {
			fmt.Printf("%s: %v\n", it.Where, err)
			bad++
		}
	}
	fmt.Fprintf(os.Stderr, "zl-promql: %d expressions, %d did not parse\n", len(items), bad)
	if bad > 0 || len(items) == 0 {
		os.Exit(1)
	}
}
