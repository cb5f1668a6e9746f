package config

import _ "embed"

// SampleYAML is the annotated sample configuration (sample.yaml): three
// client companies and four operators. `toritsugi demo` runs on it and the
// README points admins to it as a starting point.
//
//go:embed sample.yaml
var SampleYAML []byte
