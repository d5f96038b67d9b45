# A fleet: three caches, NixOS build servers and locked-down production
# hosts, macOS laptops (nix-darwin and Determinate Nix), developers'
# home-manager setups and CI runners with a plain nix.conf. The acme cache is
# in the middle of a key rotation.

keyform {
  output_dir          = "generated"
  expiry_warning_days = 60
}

catalog "acme" {
  description = "Acme's main binary cache (a Flox Catalog Store)"
  substituter = "https://cache.acme.example"
}

catalog "builds" {
  description = "CI build outputs in S3, signed by the CI runners"
  substituter = "s3://acme-ci-cache?region=eu-west-1"
}

catalog "partner" {
  description = "A partner's public cache; we only trust its key"
  substituter = "https://cache.partner.example"
}
