package config

import "github.com/toritsugi/toritsugi/pkg/phone"

// ClientByDID finds the client owning a dialled number as Asterisk reports it:
// "0312345678", "+81312345678" or the trunk form "81312345678".
func (c *Config) ClientByDID(did string) (*Client, bool) {
	key, err := phone.NormalizeDID(did)
	if err != nil {
		return nil, false
	}
	if c.clientByDID != nil {
		i, ok := c.clientByDID[key]
		if !ok {
			return nil, false
		}
		return &c.Clients[i], true
	}
	for i := range c.Clients {
		for _, d := range c.Clients[i].DIDs {
			if d == key {
				return &c.Clients[i], true
			}
		}
	}
	return nil, false
}

// Client finds a client by id.
func (c *Config) Client(id string) (*Client, bool) {
	if c.clientByID != nil {
		i, ok := c.clientByID[id]
		if !ok {
			return nil, false
		}
		return &c.Clients[i], true
	}
	for i := range c.Clients {
		if c.Clients[i].ID == id {
			return &c.Clients[i], true
		}
	}
	return nil, false
}

// Operator finds an operator by id.
func (c *Config) Operator(id string) (*Operator, bool) {
	if c.operatorByID != nil {
		i, ok := c.operatorByID[id]
		if !ok {
			return nil, false
		}
		return &c.Operators[i], true
	}
	for i := range c.Operators {
		if c.Operators[i].ID == id {
			return &c.Operators[i], true
		}
	}
	return nil, false
}

// index builds the lookup maps; Parse calls it once validation passed.
func (c *Config) index() {
	c.clientByID = make(map[string]int, len(c.Clients))
	c.clientByDID = make(map[string]int)
	for i := range c.Clients {
		c.clientByID[c.Clients[i].ID] = i
		for _, d := range c.Clients[i].DIDs {
			c.clientByDID[d] = i
		}
	}
	c.destByName = make(map[string]int, len(c.Destinations))
	for i := range c.Destinations {
		c.destByName[c.Destinations[i].Name] = i
	}
	c.operatorByID = make(map[string]int, len(c.Operators))
	for i := range c.Operators {
		c.operatorByID[c.Operators[i].ID] = i
	}
}

// OperatorsFor lists the operators serving a client, in configuration order.
func (c *Config) OperatorsFor(clientID string) []*Operator {
	var out []*Operator
	for i := range c.Operators {
		if c.Operators[i].Serves(clientID) {
			out = append(out, &c.Operators[i])
		}
	}
	return out
}
