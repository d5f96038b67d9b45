package hint

import (
	"errors"
	"fmt"
	"testing"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
)

func TestOf(t *testing.T) {
	base := errors.New("key k: /x does not exist")
	err := fmt.Errorf("publisher p: %w", Wrap(base, "install it with %q", "keyform unseal k"))
	if err.Error() != "publisher p: key k: /x does not exist" || !errors.Is(err, base) {
		t.Errorf("Wrap changed the message or the chain: %v", err)
	}
	if got := Of(err); got != `install it with "keyform unseal k"` {
		t.Errorf("Of = %q", got)
	}
	// The outermost fix wins: the caller knows better.
	if got := Of(Wrap(err, "outer")); got != "outer" {
		t.Errorf("Of(rewrapped) = %q", got)
	}
	if Of(base) != "" || Of(nil) != "" {
		t.Error("Of found a fix where there is none")
	}
}
