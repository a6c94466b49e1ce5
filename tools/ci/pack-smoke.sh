#!/usr/bin/env bash
# The packages as a user gets them: packs Frugal, Frugal.Server and the frugal tool (Frugal.Cli) into a temp folder,
# installs the tool from that folder into a temp tool path and runs it on the built-in model it ships, pulls a model
# from a fake Hugging Face hub on 127.0.0.1 (tools/FakeHub) and runs it by its hub reference, then builds and runs
# tests/PackageConsumer, an app that takes the Frugal package from that folder (restored into an empty packages
# folder, so nothing cached from an earlier build can stand in for the package) and generates through IChatClient.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
work=$(mktemp -d)
hub_pid=
trap '[[ -z $hub_pid ]] || kill "$hub_pid" 2>/dev/null; rm -rf "$work"' EXIT
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

# The README's fresh-machine path with a hub model, against tools/FakeHub serving the built-in model as repo frugal/tiny
# (under a name that carries its quant, as hub files do): pull the bare reference, run the OWNER/REPO:QUANT one from the
# cache with the hub stopped, list it.
echo "pack-smoke: starting the fake hub"
dotnet build tools/FakeHub -c Release -o "$work/fakehub" --nologo -v q
mkdir "$work/hub"
ln -s "$repo/models/frugal-main.gguf" "$work/hub/frugal-main-F16.gguf"
dotnet "$work/fakehub/FakeHub.dll" "frugal/tiny=$work/hub" >"$work/hub.out" 2>"$work/hub.err" &
hub_pid=$!
for _ in $(seq 120); do
  [[ -s $work/hub.out ]] && break
  kill -0 "$hub_pid" 2>/dev/null || { cat "$work/hub.err" >&2; echo "pack-smoke: the fake hub exited" >&2; exit 1; }
  sleep 0.5
done
url=$(head -n 1 "$work/hub.out")
[[ $url == http://127.0.0.1:* ]] || { echo "pack-smoke: the fake hub printed no URL in 60 s" >&2; exit 1; }
export HF_ENDPOINT=$url FRUGAL_HOME=$work/home
echo "pack-smoke: frugal pull frugal/tiny from $url"
"$frugal" pull frugal/tiny
cached=$FRUGAL_HOME/models/frugal/tiny/frugal-main-F16.gguf
want=$(sha256sum <"$repo/models/frugal-main.gguf")
[[ -f $cached && $(sha256sum <"$cached") == "$want" ]] || { echo "pack-smoke: $cached is missing or not the served file" >&2; exit 1; }
kill "$hub_pid"; wait "$hub_pid" || true; hub_pid=
out=$("$frugal" run frugal/tiny:F16 -p "Once upon a time" -n 8 </dev/null)
echo "pack-smoke: frugal run frugal/tiny:F16 -> $out"
grep -q '[[:alpha:]]' <<<"$out" || { echo "pack-smoke: frugal run frugal/tiny:F16 printed no text" >&2; exit 1; }
list=$("$frugal" list)
grep -q '^frugal/tiny/frugal-main-F16\.gguf ' <<<"$list" || { echo "$list" >&2; echo "pack-smoke: frugal list does not show frugal/tiny" >&2; exit 1; }
unset HF_ENDPOINT FRUGAL_HOME

echo "pack-smoke: building tests/PackageConsumer against the Frugal package"
cp -r tests/PackageConsumer "$work/consumer"
rm -rf "$work/consumer/bin" "$work/consumer/obj"
export FRUGAL_PACKAGE_FEED=$feed
dotnet restore "$work/consumer" --packages "$work/packages" -p:FrugalVersion="$version" -v q
dotnet build "$work/consumer" -c Release --no-restore -p:FrugalVersion="$version" --nologo -v q
test -f "$work/packages/frugal/$version/frugal.$version.nupkg" || { echo "pack-smoke: Frugal was not restored from $feed" >&2; exit 1; }
dotnet "$work/consumer/bin/Release/net10.0/PackageConsumer.dll" "$repo/models/frugal-main.gguf"
echo "pack-smoke: ok"
