// Starts `snowc lsp` for .snow files (vscode-languageclient over stdio).
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('snow').get('server.path') || 'snowc';
  const server = { command, args: ['lsp'], transport: TransportKind.stdio };
  client = new LanguageClient(
    'snow',
    'Snow',
    { run: server, debug: server },
    { documentSelector: [{ scheme: 'file', language: 'snow' }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
