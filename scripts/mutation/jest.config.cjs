// The jest config Stryker's jest runner loads in its sandbox: the same one
// `backstage-cli package test` builds for the package in the current directory
// (Stryker starts its test runners with the sandbox copy of the package as cwd).
module.exports = async () => require('@backstage/cli/config/jest');
