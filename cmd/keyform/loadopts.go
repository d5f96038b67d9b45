package main

import (
	"github.com/keyform/keyform/schema"
	"github.com/keyform/keyform/seal"
)

// loadOptions completes the options of every policy load of the command
// (loadPolicy, plan's base, policyEdit; TestLoadsUseLoadOptions holds
// them to it): recipients are checked with seal's parser, so a policy
// that validates can always be sealed, and expiry is judged against now().
func loadOptions(opts schema.Options) schema.Options {
	if opts.Now.IsZero() {
		opts.Now = now()
	}
	opts.CheckRecipient = checkRecipient
	return opts
}

func checkRecipient(s string) error {
	_, err := seal.ParseRecipient(s)
	return err
}
