// Refuses to run on a Node.js older than the one the project needs. npm scripts put
// node_modules/.bin first on PATH, where the `node` devDependency provides Node 24.
const [major] = process.versions.node.split('.').map(Number);
const REQUIRED_MAJOR = 22;
if (major === undefined || major < REQUIRED_MAJOR) {
  console.error(
    `mutual needs Node.js >= ${REQUIRED_MAJOR} (found ${process.version}). ` +
      'Run it through npm (npm start, npm test), which uses the Node.js 24 installed by npm install.',
  );
  process.exit(1);
}
