package runtime

// HaveFentry reports whether this kernel loads fentry/fexit programs
// (nil if it does). gotrace --info asks it.
func HaveFentry() error { return haveFentry() }
