#!/usr/bin/env bash
# The packages as a user gets them: packs Frugal, Frugal.Server and the frugal tool (Frugal.Cli) into a temp folder,
# installs the tool from that folder into a temp tool path and runs it on the built-in model it ships, then builds and
# runs tests/PackageConsumer, an app that takes the Frugal package from that folder (restored into an empty packages
# folder, so nothing cached from an earlier build can stand in for the package) and generates through IChatClient.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
feed=$work/feed
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

version=$(dotnet msbuild src/Frugal/Frugal.csproj -getProperty:Version)
echo "pack-smoke: packing $version into $feed"
dotnet pack src/Frugal.Cli -c Release -o "$feed" --nologo -v q
dotnet pack src/Frugal -c Release -o "$feed" --no-build --nologo -v q
dotnet pack src/Frugal.Server -c Release -o "$feed" --no-build --nologo -v q
for p in Frugal Frugal.Server Frugal.Cli; do
  test -f "$feed/$p.$version.nupkg" || { echo "pack-smoke: $p.$version.nupkg was not packed" >&2; exit 1; }
  test -f "$feed/$p.$version.snupkg" || { echo "pack-smoke: $p.$version.snupkg (symbols) was not packed" >&2; exit 1; }
done

echo "pack-smoke: installing the tool from $feed"
dotnet tool install Frugal.Cli --tool-path "$work/tools" --add-source "$feed" --version "$version"
frugal=$work/tools/frugal
got=$("$frugal" --version)
[[ $got == "frugal $version"* ]] || { echo "pack-smoke: 'frugal --version' printed '$got', expected frugal $version" >&2; exit 1; }
out=$("$frugal" run -p "Once upon a time" -n 8 --ignore-eos --seed 1 --json </dev/null)
echo "pack-smoke: frugal run -> $out"
[[ $out =~ \"tokens\":\[[0-9]+(,[0-9]+){7}\] ]] || { echo "pack-smoke: frugal run did not generate 8 tokens" >&2; exit 1; }
"$frugal" run -p "Once upon a time" -n 8 </dev/null | grep -q '[[:alpha:]]' || { echo "pack-smoke: frugal run printed no text" >&2; exit 1; }

echo "pack-smoke: building tests/PackageConsumer against the Frugal package"
cp -r tests/PackageConsumer "$work/consumer"
rm -rf "$work/consumer/bin" "$work/consumer/obj"
export FRUGAL_PACKAGE_FEED=$feed
dotnet restore "$work/consumer" --packages "$work/packages" -p:FrugalVersion="$version" -v q
dotnet build "$work/consumer" -c Release --no-restore -p:FrugalVersion="$version" --nologo -v q
test -f "$work/packages/frugal/$version/frugal.$version.nupkg" || { echo "pack-smoke: Frugal was not restored from $feed" >&2; exit 1; }
dotnet "$work/consumer/bin/Release/net10.0/PackageConsumer.dll" "$repo/models/frugal-main.gguf"
echo "pack-smoke: ok"
