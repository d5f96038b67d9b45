# Stubs for what the upstream nix modules merely write to or read in
# passing, so that eval.nix can evaluate them without the rest of NixOS,
# nix-darwin or home-manager. Nothing here declares or touches nix.settings,
# nix.extraOptions or the nix.conf serialization: those stay upstream's.
{ lib }:
let
  inherit (lib) mkOption types;

  # A package as far as the nix modules look at one: getVersion, .out, and
  # a store path when interpolated.
  fakePackage = pname: version:
    let
      self = {
        type = "derivation";
        name = "${pname}-${version}";
        inherit pname version;
        outPath = "/nix/store/00000000000000000000000000000000-${pname}-${version}";
        outputName = "out";
        out = self;
      };
    in
    self;

  # sink takes any definitions: attribute sets merge per attribute (lazily,
  # so unread values are never evaluated), lists concatenate, anything else
  # must be defined once or equally. For options the modules only write to.
  sink = types.mkOptionType {
    name = "sink";
    description = "anything (keyform test stub)";
    merge = loc: defs:
      let values = map (d: d.value) defs;
      in
      if builtins.all builtins.isList values then builtins.concatLists values
      else if builtins.all builtins.isAttrs values then (types.lazyAttrsOf sink).merge loc defs
      else lib.mergeEqualOption loc defs;
  };
  sinkOption = mkOption { type = sink; default = { }; };

  # users.users and users.groups entries have a name defaulting to their
  # attribute name, as nix-darwin's users module declares them; nix-darwin's
  # nix module asserts on those names.
  named = types.lazyAttrsOf (types.submodule ({ name, ... }: {
    freeformType = types.lazyAttrsOf sink;
    options.name = mkOption { type = types.str; default = name; };
  }));

  # Options every one of the three systems has, which the nix modules write
  # to: assertions and warnings as NixOS declares them (list merges), the
  # rest as sinks.
  common = {
    options = {
      assertions = mkOption { type = types.listOf types.unspecified; default = [ ]; };
      warnings = mkOption { type = types.listOf types.str; default = [ ]; };
      meta = sinkOption;
      environment = sinkOption;
    };
  };
in
{
  # The evaluating Nix stands in for pkgs.nix, so the module systems write
  # the nix.conf for the version that then reads it.
  pkgs = {
    nix = fakePackage "nix" builtins.nixVersion;
    writeTextFile = args: { inherit (args) name text; };
    stdenv = rec {
      hostPlatform = { system = builtins.currentSystem; };
      buildPlatform = hostPlatform;
      shell = "/bin/sh";
    };
  };

  nixos = [
    common
    # nix.enable and nix.package are declared in NixOS's
    # services/system/nix-daemon.nix, next to the daemon's systemd units.
    ({ pkgs, ... }: {
      options.nix = {
        enable = mkOption { type = types.bool; default = true; };
        package = mkOption { type = types.package; default = pkgs.nix; };
      };
    })
  ];

  darwin = [
    common
    {
      options = {
        # A namespace, not one option: nix-darwin renames options inside it
        # (users.nix.*).
        users = {
          users = mkOption { type = named; default = { }; };
          groups = mkOption { type = named; default = { }; };
          knownUsers = sinkOption;
          knownGroups = sinkOption;
        };
        system = sinkOption;
        programs = sinkOption;
        ids = sinkOption;
      };
    }
  ];

  home-manager = [
    common
    {
      options = {
        home = sinkOption;
        xdg = sinkOption;
      };
    }
  ];

  # Standalone home-manager sets osConfig to null
  # (modules/misc/submodule-support.nix).
  homeManagerStandalone = { _module.args.osConfig = lib.mkDefault null; };

  # home-manager as a NixOS or nix-darwin module: osConfig is the system's
  # configuration, and nixos/common.nix adds, for every user,
  #   nix.enable = mkIf (options.nix.enable.visible or true) config.nix.enable;
  #   nix.package = mkIf config.nix.enable config.nix.package;
  # (config being the system's). os = { enable; version; } describes it.
  homeManagerAsSystemModule = os: {
    _module.args.osConfig = {
      nix = {
        inherit (os) enable;
        package = fakePackage "nix" os.version;
        settings = { };
      };
    };
    nix.enable = os.enable;
    nix.package = lib.mkIf os.enable (fakePackage "nix" os.version);
  };
}
