# A key rotation in progress, as keyform rotate and keyform retire leave it.
#
#   main_1  retired: no target trusts it; nix.conf patches remove it.
#   main_2  active: what the cache signs with today.
#   main_3  active: its successor, added by "keyform rotate main_2". Every
#           machine trusts both, so the cache can re-sign with main_3.
#
# The cache has been re-signed with main_3 (keyform resign main_3), and
# audit/main.json, written by "keyform audit main --record", is the
# evidence: no path relies on main_2 alone. Next step, in its own pull
# request: "keyform retire main_2", whose plan shows that audit.
# docs/rotation.md walks through the whole rotation.

catalog "main" {
  description = "The team's binary cache"
  substituter = "https://cache.example.org"
}

key "main_1" {
  name             = "cache.example.org-1"
  catalog          = catalog.main
  public_key_file  = "keys/cache.example.org-1.pub"
  private_key_path = "/var/lib/keyform/cache.example.org-1.key"
  expires          = "2026-09-30"
  state            = "retired"
}

key "main_2" {
  name             = "cache.example.org-2"
  catalog          = catalog.main
  public_key_file  = "keys/cache.example.org-2.pub"
  private_key_path = "/var/lib/keyform/cache.example.org-2.key"
  expires          = "2027-09-30"
}

key "main_3" {
  name             = "cache.example.org-3"
  catalog          = catalog.main
  public_key_file  = "keys/cache.example.org-3.pub"
  private_key_path = "/var/lib/keyform/cache.example.org-3.key"
}

# Every kind of machine trusts the catalog, so each gets main_2 and main_3
# and loses main_1 without anyone listing keys by hand.
target "nixos" "servers" {
  trust = [catalog.main]
}

target "darwin" "laptops" {
  trust = [catalog.main]
}

target "home_manager" "developers" {
  trust = [catalog.main]
}

target "nixconf" "ci_runners" {
  trust = [catalog.main]
  path  = "/etc/nix/nix.conf"
}
