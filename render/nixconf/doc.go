// Package nixconf handles nix.conf, the format of nixconf targets: it
// renders a target's standalone snippet (the extra-trusted-public-keys and
// extra-substituters lines to add, see Snippet), and parses and patches an
// existing nix.conf in place.
//
// nix.conf has no quoting or escapes: a value ends at whitespace and "#"
// starts a comment anywhere. Values that would break that are refused, never
// escaped; policy text in comments goes through nixexpr.Comment.
package nixconf
