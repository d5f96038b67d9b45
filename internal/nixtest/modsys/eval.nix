# Evaluates rendered keyform modules with the real module systems: nixpkgs'
# lib.evalModules and the upstream modules that declare and serialize
# nix.settings (NixOS nix.nix, nix-darwin modules/nix, home-manager
# modules/misc/nix), laid out under src by .ci/modsys-sources. Everything
# else those modules only write to is a stub (stubs.nix).
#
# Each case is { name; system; lib; modules; os ? null; }:
#   system  "nixos", "darwin" or "home-manager"
#   lib     "lib-24.05" or "lib-current": which nixpkgs lib (see PINS)
#   modules the rendered module files, plus any test modules
#   os      home-manager only: null for standalone home-manager, or
#           { enable; version; } for home-manager as a NixOS or nix-darwin
#           module whose system has nix.enable and a Nix of that version
# and gives { name; settings; nixConf; failedAssertions; package; }: the
# final nix.settings trust lists, the nix.conf text the module system
# writes, the messages of failed assertions, and nix.package's name.
{ src, cases }:
let
  libs = {
    "lib-24.05" = import (src + "/lib-24.05/lib");
    "lib-current" = import (src + "/lib-current/lib");
  };
  upstream = {
    nixos = [ (src + "/nixos/nixos/modules/config/nix.nix") ];
    darwin = [ (src + "/nix-darwin/modules/nix/default.nix") ];
    # default.nix imports ./remote-build.nix itself.
    home-manager = [ (src + "/home-manager/modules/misc/nix/default.nix") ];
  };
  # The nix.conf each module system writes, as the upstream module builds it
  # (pkgs.writeTextFile is stubbed to keep its text); null when it writes
  # none (home-manager with nix.enable = false).
  nixConfOf = {
    nixos = cfg: cfg.environment.etc."nix/nix.conf".source.text or null;
    darwin = cfg: cfg.environment.etc."nix/nix.conf".source.text or null;
    home-manager = cfg: cfg.xdg.configFile."nix/nix.conf".source.text or null;
  };
  trustKeys = [ "trusted-public-keys" "extra-trusted-public-keys" "substituters" "extra-substituters" ];

  evalCase = c:
    let
      lib = libs.${c.lib};
      stubs = import ./stubs.nix { inherit lib; };
      os = c.os or null;
      hmArgs =
        if os == null then [ stubs.homeManagerStandalone ]
        else [ (stubs.homeManagerAsSystemModule os) ];
      eval = lib.evalModules {
        modules = upstream.${c.system} ++ stubs.${c.system} ++ (if c.system == "home-manager" then hmArgs else [ ]) ++ c.modules;
        specialArgs = { pkgs = stubs.pkgs; };
      };
      cfg = eval.config;
    in
    {
      inherit (c) name;
      settings = lib.genAttrs trustKeys (k: cfg.nix.settings.${k} or null);
      failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) cfg.assertions);
      package = if cfg.nix.package == null then null else cfg.nix.package.name;
      # Only when nothing failed: a failed assertion is what stops the real
      # system from building, and the nix.conf may not even evaluate then.
      nixConf =
        if builtins.any (a: !a.assertion) cfg.assertions then null
        else nixConfOf.${c.system} cfg;
    };
in
map evalCase cases
