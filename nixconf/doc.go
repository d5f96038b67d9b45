// Package nixconf is keyform's nix.conf engine: it parses nix.conf the way
// Nix does (Parse), computes the effective trusted-public-keys and
// substituters through includes, aliases and the wiping of extra- lines by
// a later plain line (Evaluate), patches a file in place for a target
// (Patch), reads "nix config show" output (ParseShowConfig,
// ReadShownConfig), checks effective settings against what a target needs
// (CheckTrust), and plans "keyform apply": what to refuse, what to write,
// which daemon restart fits the machine (PlanApply, PlanRestart), and runs
// it from the target to the written file (ApplyWant, Host.Apply). For
// "keyform verify" it also asks a user's Nix whether the daemon trusts
// them and what it then ignores (Caller, StoreInfo, JudgeDaemonTrust,
// IgnoredForUntrusted), finds the user's plain lines that drop the
// system's values (ConfSourcesOf, CheckUserConf), and checks a directory
// of captured configurations (CheckFleet).
// Before apply writes, the machine's own nix loads the result and must
// read it as keyform does (CheckWithNix); the file is replaced under a
// lock on its directory, with errors that say why it cannot be
// (ConfFile.Lock, AccessError).
//
// The package never consults the process: the operating system, the user
// id, the store and daemon-socket paths and the command runner are passed
// in (Host), so tests give them explicitly.
//
// nix.conf has no quoting or escapes: a value ends at whitespace and "#"
// starts a comment anywhere. Values that would break that are refused,
// never escaped. The snippet keyform renders for a nixconf target lives in
// render/nixconf.
package nixconf
