package lang

import "testing"

// Building the grammar is part of every run's start-up (the first Parse).
func BenchmarkBuildGrammar(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buildParser()
	}
}
