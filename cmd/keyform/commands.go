package main

import "github.com/keyform/keyform/internal/cli"

// commandTable is keyform's command tree: every command, each built by the
// constructor at the top of its cmd_*.go file. Help lists them by name.
func commandTable() []*cli.Command {
	return []*cli.Command{
		initCommand(),
		fmtCommand(),
		validateCommand(),
		keysListCommand(),
		keysCheckCommand(),
		keygenCommand(),
		pubkeyCommand(),
		rotateCommand(),
		retireCommand(),
		auditCommand(),
		resignCommand(),
		sealCommand(),
		resealCommand(),
		unsealCommand(),
		publisherSetupCommand(),
		publisherFloxCommand(),
		renderCommand(),
		checkCommand(),
		planCommand(),
		applyCommand(),
		verifyCommand(),
		completionCommand(),
		versionCommand(),
	}
}
