package publisher

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/BurntSushi/toml"

	"github.com/keyform/keyform/internal/safefile"
)

// This file reads the user's flox.toml, so that "keyform publisher setup"
// run again only checks the setting instead of running "flox config --set"
// each time.

// maxConfigSize caps the flox.toml read: a user's Flox settings are a few
// lines.
const maxConfigSize = 1 << 20

// UserConfigFile is the flox.toml that "flox config --set" writes:
// $FLOX_CONFIG_DIR/flox.toml, else flox/flox.toml under $XDG_CONFIG_HOME,
// else ~/.config/flox/flox.toml. getenv is os.Getenv.
func UserConfigFile(getenv func(string) string) string {
	if d := getenv("FLOX_CONFIG_DIR"); d != "" {
		return filepath.Join(d, "flox.toml")
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "flox", "flox.toml")
	}
	return filepath.Join(getenv("HOME"), ".config", "flox", "flox.toml")
}

// ConfiguredKey returns the publish.signing_private_key that the flox.toml
// at path sets, "" when the file or the setting is absent.
func ConfiguredKey(path string) (string, error) {
	data, err := safefile.ReadFile(path, maxConfigSize)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var doc struct {
		Publish struct {
			SigningPrivateKey string `toml:"signing_private_key"`
		} `toml:"publish"`
	}
	if _, err := toml.Decode(string(data), &doc); err != nil {
		// The parser's message may quote the file, which can hold access
		// tokens: say only where.
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return "", fmt.Errorf("%s:%d does not parse as TOML", path, pe.Position.Line)
		}
		return "", fmt.Errorf("%s does not hold Flox settings as keyform expects (publish.signing_private_key a string)", path)
	}
	return doc.Publish.SigningPrivateKey, nil
}
