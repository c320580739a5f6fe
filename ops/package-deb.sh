#!/usr/bin/env bash
# npm run package: build paperback_VERSION_ARCH.deb with dpkg-deb (no debhelper needed).
# The native addons (better-sqlite3, argon2) are built for the Node.js running this script,
# so the package depends on that Node major: build once per Node major you ship (20, 24).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.}"

version="$(node -p "require('./package.json').version")"
arch="$(dpkg --print-architecture)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
node_min="$(node -p '(v => v[0] === "20" ? "20.19" : v[0] + ".0")(process.versions.node.split("."))')"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
lib="$root/usr/lib/paperback"

npm run --silent build
mkdir -p "$lib" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/paperback" "$root/usr/share/doc/paperback" "$root/usr/share/lintian/overrides" "$root/DEBIAN"
cp -r dist templates package.json package-lock.json README.md "$lib/"
rm -rf "$lib/dist/tests" "$lib/dist/bench" "$lib/dist/docs"
# Production dependencies only, installed as npm ci would; allowScripts in package.json builds the addons.
cp -a node_modules "$lib/"
(cd "$lib" && npm prune --omit=dev --no-audit --no-fund >/dev/null)
# What a running box never reads: tests, sources, docs, other platforms' prebuilt addons, build leftovers.
find "$lib/node_modules" -depth \( -name test -o -name tests -o -name __tests__ -o -name '*.md' -o -name '*.map' -o -name '*.ts' -not -name '*.d.ts' -o -name '.github' -o -name 'example' -o -name 'examples' -o -name '.eslintrc*' -o -name '.npmignore' -o -name '.travis.yml' -o -name 'Makefile' -o -name '*.gyp' -o -name '*.gypi' -o -name 'binding.gyp' \) -prune -exec rm -rf {} +
find "$lib/node_modules" -path '*/prebuilds/*' -mindepth 1 -maxdepth 6 -type d -name '*-*' ! -name "linux-$( [ "$arch" = amd64 ] && echo x64 || echo "$arch")" -prune -exec rm -rf {} +
find "$lib/node_modules" -type d \( -name deps -o -name src -o -name obj.target -o -name .deps \) -path '*/better-sqlite3/*' -prune -exec rm -rf {} +
# The addons as built here; argon2's own prebuilt binaries go (its linux-x64 one crashes on load on
# Debian 12: it is the local build, made by its install script, that the agent has always loaded).
rm -rf "$lib/node_modules/argon2/prebuilds" "$lib/node_modules/argon2/build/Release/obj.target" "$lib/node_modules/argon2/build/Release/.deps"
find "$lib/node_modules/argon2/build" -name '*.a' -delete
rm -f "$lib/node_modules/better-sqlite3/build/Release/test_extension.node"
# node-oracledb runs in thin mode (pure JavaScript): its thick-mode binaries, for five platforms, are not needed.
rm -rf "$lib/node_modules/oracledb/build"
rm -rf "$lib/node_modules/better-sqlite3/build/Release/obj.target"
rm -rf "$lib/node_modules/fastify/integration" "$lib/node_modules/pino/index.html"
# Only the two faces Paperback draws with; the others are not read (and some forbid embedding).
find "$lib/node_modules/dejavu-fonts-ttf/ttf" -type f ! -name DejaVuSans.ttf ! -name DejaVuSans-Bold.ttf -delete
find "$lib/node_modules" -name '*.node' -exec strip --strip-unneeded {} + -exec chmod 0644 {} +
find "$lib/node_modules" -type d -empty -delete
chmod -R u=rwX,go=rX "$lib"
find "$lib" -type f -name '*.js' -perm -u+x -exec chmod a-x {} +

install -m 0755 ops/debian/paperback "$root/usr/bin/paperback"
cp systemd/paperback.service "$root/lib/systemd/system/paperback.service"
chmod 0644 "$root/lib/systemd/system/paperback.service"
cp -r ops/debian/etc/. "$root/etc/paperback/"
find "$root/etc/paperback" -type f -exec chmod 0644 {} +
install -m 0644 ops/debian/copyright "$root/usr/share/doc/paperback/copyright"
cp docs/configuration.md docs/operations.md docs/downtime.md "$root/usr/share/doc/paperback/"
gzip -9n "$root/usr/share/doc/paperback/"*.md
printf 'paperback (%s) unstable; urgency=medium\n\n  * Release %s, built with Node.js %s.\n\n -- Paperback developers <paperback@example.org>  %s\n' \
  "$version" "$version" "$(node --version)" "$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")" | gzip -9n > "$root/usr/share/doc/paperback/changelog.gz"
install -m 0644 ops/debian/lintian-overrides "$root/usr/share/lintian/overrides/paperback"

(cd "$root" && find etc -type f | sed 's#^#/#' | sort) > "$root/DEBIAN/conffiles"
install -m 0755 ops/debian/postinst ops/debian/prerm ops/debian/postrm "$root/DEBIAN/"
size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@NODE_MIN@/$node_min/" -e "s/@NODE_NEXT@/$((node_major + 1))/" ops/debian/control.in > "$root/DEBIAN/control"
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"

deb="$out/paperback_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
