// The four prompts okta-connect shows, each from its own @inquirer package (the umbrella @inquirer/prompts also loads
// the editor prompt and its encoding tables). Bundled as a file of its own, required on the first prompt.
export { default as confirm } from '@inquirer/confirm';
export { default as input } from '@inquirer/input';
export { default as password } from '@inquirer/password';
export { default as select } from '@inquirer/select';
