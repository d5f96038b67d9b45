# The smallest useful keyform policy: one team cache, trusted by NixOS
# servers and by CI runners with a plain /etc/nix/nix.conf.

catalog "acme" {
  description = "Acme's binary cache"
  substituter = "https://cache.acme.example"
}

key "acme_2026" {
  name    = "cache.acme.example-1"
  catalog = catalog.acme
  # Written by "keyform keygen acme_2026"; committed so reviewers see it.
  public_key_file = "keys/cache.acme.example-1.pub"
  # Only publishers have this file; it never enters the repository.
  private_key_path = "/var/lib/keyform/cache.acme.example-1.key"
  expires          = "2027-12-31"
}

# NixOS build servers import the rendered module.
target "nixos" "build_farm" {
  trust = [catalog.acme]
}

# CI runners with plain Nix get their nix.conf patched by keyform apply.
target "nixconf" "ci_runners" {
  trust = [catalog.acme]
  path  = "/etc/nix/nix.conf"
}
