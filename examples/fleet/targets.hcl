# NixOS build servers: the acme keys and CI outputs, on top of cache.nixos.org.
target "nixos" "build_farm" {
  trust = [catalog.acme, catalog.builds]
}

# Production hosts substitute only from our caches: exclusive = true forces
# the key list, so cache.nixos.org's key is no longer trusted there.
target "nixos" "production" {
  trust     = [catalog.acme]
  exclusive = true
}

# Laptops whose Nix is managed by nix-darwin (nix.enable = true).
target "darwin" "laptops" {
  trust = [catalog.acme, catalog.partner]
}

# Laptops running Determinate Nix, where nix-darwin does not manage Nix: the
# settings go to /etc/nix/nix.custom.conf, which Determinate's nix.conf
# includes.
target "nixconf" "determinate_laptops" {
  trust  = [catalog.acme, catalog.partner]
  path   = "/etc/nix/nix.custom.conf"
  output = "darwin/determinate_laptops.conf"
}

# Developers' home-manager: only the main cache and the partner key (no
# substituter from the partner catalog, since we list the key, not the catalog).
target "home_manager" "developers" {
  trust = [catalog.acme, key.partner_1]
}

# CI runners with plain Nix and a hand-maintained /etc/nix/nix.conf.
target "nixconf" "ci_runners" {
  trust = [catalog.acme, catalog.builds]
  path  = "/etc/nix/nix.conf"
}
