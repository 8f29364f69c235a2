/**
 * Test helpers of the golden-path scaffolder module: a local stand-in for the GitHub API.
 *
 * @packageDocumentation
 */
export { startFakeGithub, githubTime } from './fakeGithub';
export type {
  FakeGithub,
  FakeGithubOptions,
  FakeInstallation,
  FakeRepo,
  FakeRequest,
  FakeToken,
} from './fakeGithub';
