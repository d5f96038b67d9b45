# acme rotates yearly. -1 is retired: no target may trust it, and the
# rendered nix.conf snippets list it for removal. -2 and -3 are both active
# while caches re-sign with -3; when that is done, retire -2.

key "acme_2025" {
  name             = "cache.acme.example-1"
  catalog          = catalog.acme
  public_key_file  = "keys/cache.acme.example-1.pub"
  private_key_path = "/var/lib/keyform/cache.acme.example-1.key"
  state            = "retired"
  expires          = "2026-06-30"
}

key "acme_2026" {
  name             = "cache.acme.example-2"
  catalog          = catalog.acme
  public_key_file  = "keys/cache.acme.example-2.pub"
  private_key_path = "/var/lib/keyform/cache.acme.example-2.key"
  expires          = "2027-06-30"
}

key "acme_2027" {
  name             = "cache.acme.example-3"
  catalog          = catalog.acme
  public_key_file  = "keys/cache.acme.example-3.pub"
  private_key_path = "/var/lib/keyform/cache.acme.example-3.key"
  expires          = "2028-06-30"
}

key "builds_1" {
  name             = "ci.acme.example-1"
  catalog          = catalog.builds
  public_key_file  = "keys/ci.acme.example-1.pub"
  private_key_path = "/var/lib/keyform/ci.acme.example-1.key"
  expires          = "2028-12-31"
}

# Someone else's key: pasted inline, and we hold no private key for it.
key "partner_1" {
  name       = "cache.partner.example-1"
  catalog    = catalog.partner
  public_key = "cache.partner.example-1:Oqh4uCsEPpsjQOGIRszbgOnN0zEZVfR3nCAZ6LgYy/s="
}
