package server_test

import (
	"context"

	"saasmall/server"
	"saasmall/server/auth"
	"saasmall/server/servertest"
)

type serverConfig = server.Config

var ctxBG = context.Background()

func authRegister(email, name string) auth.RegisterInput {
	return auth.RegisterInput{Email: email, Password: servertest.Password, Name: name}
}
