// Package netns finds the network namespaces an agent serves: those named
// on its command line and those in a directory such as /run/netns (where
// `ip netns add` puts them), followed while they appear, disappear and are
// re-created.
package netns
