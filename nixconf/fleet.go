package nixconf

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Limits of a fleet directory: a captured "nix config show --json" is tens
// of kilobytes, and a fleet of more than ten thousand machines is better
// checked in parts.
const MaxFleetHosts = 10000

// FleetHost is one machine of a fleet: its captured configuration's
// verdict, or why its file could not be read.
type FleetHost struct {
	// Host is the file name without its extension; File the file name.
	Host, File string
	Report     *TrustReport
	Err        error
}

// FleetReport is CheckFleet's verdict on a directory of captured
// configurations.
type FleetReport struct {
	// Hosts are sorted by name.
	Hosts []FleetHost
	// Skipped are the entries that are not HOST.json or HOST.txt files
	// (hidden ones left out), sorted.
	Skipped []string
	// Lag says which hosts lag a rotation, key by key.
	Lag FleetLag
}

// FleetLag lists, in the Want's order, the hosts behind on each key and
// substituter. Only entries with hosts are listed.
type FleetLag struct {
	// RetiredTrusted: retired keys some hosts still trust.
	RetiredTrusted []KeyHosts
	// ActiveMissing: active keys some hosts do not use (not trusted, or
	// shadowed by another key of their name).
	ActiveMissing []KeyHosts
	// SubstitutersMissing: substituters some hosts do not configure.
	SubstitutersMissing []KeyHosts
	// Invalid: hosts trusting an entry Nix cannot parse, which fails every
	// signature check there.
	Invalid []string
}

// KeyHosts is a key (or substituter) and the hosts behind on it.
type KeyHosts struct {
	Key   string
	Hosts []string
}

// OK reports whether every host could be read and gives the Want its trust.
func (f *FleetReport) OK() bool {
	for _, h := range f.Hosts {
		if h.Err != nil || !h.Report.OK() {
			return false
		}
	}
	return true
}

// Unreadable counts the hosts whose file could not be read.
func (f *FleetReport) Unreadable() int {
	n := 0
	for _, h := range f.Hosts {
		if h.Err != nil {
			n++
		}
	}
	return n
}

// CheckFleet reads every HOST.json and HOST.txt in the root of fsys (each
// one machine's "nix config show" output, JSON or text, as "ssh HOST nix
// config show --json > HOST.json" captures it) and checks each against
// want. A file that cannot be read or parsed, or a host with both a .json
// and a .txt file, is a FleetHost with Err. The error is for a directory
// that cannot be listed, holds more than MaxFleetHosts hosts, or none.
func CheckFleet(fsys fs.FS, want Want) (*FleetReport, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	f := &FleetReport{}
	files := map[string][]string{} // host -> its files
	for _, e := range entries {
		name := e.Name()
		ext := path.Ext(name)
		host := strings.TrimSuffix(name, ext)
		switch {
		case strings.HasPrefix(name, "."):
		case e.IsDir() || (ext != ".json" && ext != ".txt") || host == "":
			f.Skipped = append(f.Skipped, name)
		default:
			files[host] = append(files[host], name)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no HOST.json or HOST.txt files (captured \"nix config show\" output) in it")
	}
	if len(files) > MaxFleetHosts {
		return nil, fmt.Errorf("%d hosts, more than the %d keyform checks at once; split the directory", len(files), MaxFleetHosts)
	}
	for host, names := range files {
		slices.Sort(names)
		h := FleetHost{Host: host, File: names[0]}
		if len(names) > 1 {
			h.Err = fmt.Errorf("%s and %s both describe host %s; keep one", names[0], names[1], host)
		} else {
			h.Report, h.Err = checkHostFile(fsys, h.File, want)
		}
		f.Hosts = append(f.Hosts, h)
	}
	slices.SortFunc(f.Hosts, func(a, b FleetHost) int { return strings.Compare(a.Host, b.Host) })
	f.Lag = fleetLag(f.Hosts, want)
	return f, nil
}

func checkHostFile(fsys fs.FS, name string, want Want) (*TrustReport, error) {
	// A named pipe would block the read forever: look before opening.
	if fi, err := fs.Stat(fsys, name); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	r, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, MaxShownConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > MaxShownConfigSize {
		return nil, fmt.Errorf("%s: larger than %d MiB, too large for nix config show output", name, MaxShownConfigSize>>20)
	}
	c, err := ParseShowConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return CheckTrust(want, c.Settings()), nil
}

func fleetLag(hosts []FleetHost, want Want) FleetLag {
	var lag FleetLag
	active := make([][]string, len(want.Keys))
	retired := make([][]string, len(want.Retired))
	subs := make([][]string, len(want.Substituters))
	for _, h := range hosts {
		if h.Err != nil {
			continue
		}
		for i, k := range h.Report.Keys {
			switch {
			case i < len(want.Keys) && k.Status != TrustOK:
				active[i] = append(active[i], h.Host)
			case i >= len(want.Keys) && k.Status != TrustOK:
				retired[i-len(want.Keys)] = append(retired[i-len(want.Keys)], h.Host)
			}
		}
		for i, s := range h.Report.Substituters {
			if !s.Configured {
				subs[i] = append(subs[i], h.Host)
			}
		}
		if len(h.Report.Invalid) > 0 {
			lag.Invalid = append(lag.Invalid, h.Host)
		}
	}
	collect := func(keys []string, hosts [][]string) []KeyHosts {
		var out []KeyHosts
		for i, k := range keys {
			if len(hosts[i]) > 0 {
				out = append(out, KeyHosts{Key: k, Hosts: hosts[i]})
			}
		}
		return out
	}
	lag.ActiveMissing = collect(want.Keys, active)
	lag.RetiredTrusted = collect(want.Retired, retired)
	lag.SubstitutersMissing = collect(want.Substituters, subs)
	return lag
}
