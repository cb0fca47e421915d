// The architecture's "never" arrows as one ESLint rule (used by eslint.config.js).
//
// Each import's specifier is resolved against the importing file, so the rule judges where an import lands,
// not how its string is spelled ('../server/x.ts' from src/pipeline and '../../src/server/x.ts' from a
// deeper folder are the same arrow). Static imports, `export … from` and `import()` with a string literal
// are checked; bare specifiers (packages, node: built-ins) are not this rule's business.
//
// Options: { root: absolute repository root, zones: [{ from, target, message }], separate: [{ folder, message }] }
//   zone      a file under `from` (a repo-relative folder) may not import anything under `target`
//             (a folder or an array of folders);
//   separate  each sub-folder of `folder` is its own island: a file in <folder>/<a>/ may not import
//             <folder>/<b>/ (b ≠ a); files directly in <folder> are shared and may be imported by all.
import { dirname, relative, resolve, sep } from 'node:path';

/** 'src/server' is under 'src' and under itself; 'src/servers' is not under 'src/server'. */
function under(path, folder) {
  return path === folder || path.startsWith(`${folder}/`);
}

function repoPath(root, absolute) {
  return relative(root, absolute).split(sep).join('/');
}

/** @type {import('eslint').Rule.RuleModule} */
export const architecture = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid imports that cross the architecture\'s boundaries (README "Layout")' },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          zones: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                from: { type: 'string' },
                target: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
                except: { type: 'array', items: { type: 'string' } },
                message: { type: 'string' },
              },
              required: ['from', 'target', 'message'],
              additionalProperties: false,
            },
          },
          separate: {
            type: 'array',
            items: {
              type: 'object',
              properties: { folder: { type: 'string' }, message: { type: 'string' } },
              required: ['folder', 'message'],
              additionalProperties: false,
            },
          },
        },
        required: ['root'],
        additionalProperties: false,
      },
    ],
    messages: {
      crossed: '{{file}} may not import {{target}}: {{why}}',
    },
  },
  create(context) {
    const { root, zones = [], separate = [] } = context.options[0];
    const file = repoPath(root, context.filename);

    function check(node, specifier) {
      if (typeof specifier !== 'string' || !(specifier.startsWith('./') || specifier.startsWith('../'))) return;
      const target = repoPath(root, resolve(dirname(context.filename), specifier));
      for (const zone of zones) {
        if (!under(file, zone.from) || (zone.except ?? []).some((folder) => under(file, folder))) continue;
        const targets = Array.isArray(zone.target) ? zone.target : [zone.target];
        if (targets.some((folder) => under(target, folder))) {
          context.report({ node, messageId: 'crossed', data: { file, target, why: zone.message } });
          return;
        }
      }
      for (const { folder, message } of separate) {
        const own = file.startsWith(`${folder}/`) ? file.slice(folder.length + 1).split('/') : [];
        const theirs = target.startsWith(`${folder}/`) ? target.slice(folder.length + 1).split('/') : [];
        // Both inside a sub-folder (not a file directly in `folder`), and not the same one.
        if (own.length > 1 && theirs.length > 1 && own[0] !== theirs[0]) {
          context.report({ node, messageId: 'crossed', data: { file, target, why: message } });
          return;
        }
      }
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};
