// Package config holds the settings of sello serve: one [Config] type that
// declares every setting once, and [Load], which reads them from flags,
// environment variables and an optional TOML file.
//
// # Names
//
// A setting is declared by a field of [Config] with its file key, default
// and help text in struct tags. Its other names follow from the key:
//
//	file key    store.dsn          ([store] table, key dsn)
//	flag        -store-dsn         (--store-dsn works too)
//	env         SELLO_STORE_DSN
//
// Secret settings (tagged secret) are redacted by [Config.Print] and may
// also be read from a file: flag -store-dsn-file, env
// SELLO_STORE_DSN_FILE, file key store.dsn-file.
//
// # Precedence
//
// Flags win over the environment, the environment over the file, the file
// over the defaults. The file is named by -config or else SELLO_CONFIG.
//
// # Problems
//
// [Load] and [Config.Validate] report every problem in one [Error], each a
// [Problem] naming the setting and where its value came from; sello serve
// prints them and exits with status 2. [Usage] writes the help text that
// lists every setting with its default.
//
// Only cmd/sello imports this package; it copies the values into the
// Options of each package (STYLE.md §8).
package config
