package schema

import (
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var settingsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "output_dir"}, {Name: "expiry_warning_days"}, {Name: "sealed_dir"},
}}

func (l *loader) decodeSettings(b *hcl.Block) {
	content, diags := b.Body.Content(settingsSchema)
	l.diags = append(l.diags, diags...)
	s := &l.policy.Settings
	var ok bool
	if attr := content.Attributes["output_dir"]; attr != nil {
		v := l.stringAttr(content, "output_dir", &ok)
		if !ok {
			// evalAttr said why.
		} else if err := checkRelPath(v); err != nil {
			l.errorf(attr.Expr.Range().Ptr(), "Invalid output_dir", "%s. output_dir is a directory relative to the policy directory, such as \"generated\".", err)
		} else {
			s.OutputDir = filepath.Clean(v)
		}
	}
	if attr := content.Attributes["sealed_dir"]; attr != nil {
		v := l.stringAttr(content, "sealed_dir", &ok)
		if !ok {
			// evalAttr said why.
		} else if err := checkRelPath(v); err != nil {
			l.errorf(attr.Expr.Range().Ptr(), "Invalid sealed_dir", "%s. sealed_dir is a directory relative to the policy directory, such as \"sealed\".", err)
		} else {
			s.SealedDir = filepath.Clean(v)
		}
	}
	if attr := content.Attributes["expiry_warning_days"]; attr != nil {
		v, ok := l.evalAttr(attr, cty.Number)
		if ok {
			n, acc := v.AsBigFloat().Int64()
			if acc != 0 || n < 0 || n > 3650 {
				l.errorf(attr.Expr.Range().Ptr(), "Invalid expiry_warning_days", "expiry_warning_days must be a whole number of days between 0 and 3650.")
			} else {
				s.ExpiryWarningDays = int(n)
			}
		}
	}
}
