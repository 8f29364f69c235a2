/**
 * Test helpers of the golden-path scaffolder module: local stand-ins for the GitHub and
 * Gitea APIs.
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
export { startFakeGitea, giteaTime } from './fakeGitea';
export type {
  FakeGitea,
  FakeGiteaOptions,
  FakeGiteaRepo,
  FakeGiteaToken,
} from './fakeGitea';
