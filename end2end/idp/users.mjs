// The development and test directory: six employees, password = user name.
// Groups feed Switchyard's roles (admins → admin) and teams (team-<slug> → member, lead-<slug> → lead).
export const users = {
  alice: { name: 'Alice Admin', email: 'alice@switchyard.test', groups: ['employees', 'admins'] },
  bob: { name: 'Bob Builder', email: 'bob@switchyard.test', groups: ['employees', 'team-payments', 'lead-payments'] },
  carol: { name: 'Carol Ledger', email: 'carol@switchyard.test', groups: ['employees', 'team-ledger'] },
  dave: { name: 'Dave Viewer', email: 'dave@switchyard.test', groups: ['employees'] },
  erin: { name: 'Erin Reconcile', email: 'erin@switchyard.test', groups: ['employees', 'team-ledger', 'lead-ledger'] },
  nina: { name: 'Nina Network', email: 'nina@switchyard.test', groups: ['employees', 'team-network'] },
};

export function checkPassword(username, password) {
  return Object.hasOwn(users, username) && password === username;
}
