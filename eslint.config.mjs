// Lint: typescript-eslint's recommended rules everywhere, plus Pulumi's rules against Outputs in
// template literals in the code that builds resources. Those need type information
// (tsconfig.lint.json), which for the tests as well cost more than a gigabyte and most of the lint's time, for
// rules that guard what a program registers, not what a test asserts.
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

const PROGRAM = ["index.ts", "program.ts", "{components,config,resources,engines,stack,cli,talosapi,proxmoxapi,sdk}/**/*.ts"];

export default tseslint.config(
  { ignores: ["node_modules/", "bin/", "dist/", "coverage/", "**/*.js", "**/*.mjs"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: PROGRAM,
    languageOptions: { parserOptions: { project: "./tsconfig.lint.json", tsconfigRootDir: import.meta.dirname } },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
    },
  },
);
