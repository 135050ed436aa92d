package target

import (
	"strings"

	"github.com/gotrace/gotrace/kernel"
)

// matchEvents picks "CAT:EVENT" names whose parts match the globs.
func matchEvents(events []string, catGlob, eventGlob string) []string {
	var out []string
	for _, ev := range events {
		cat, name, _ := strings.Cut(ev, ":")
		if kernel.Glob(catGlob, cat) && kernel.Glob(eventGlob, name) {
			out = append(out, ev)
		}
	}
	return out
}
