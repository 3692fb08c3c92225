module.exports = ({vars}) => `Hi ${vars.x}`;
